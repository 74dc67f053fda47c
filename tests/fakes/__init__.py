"""Fakes that stand in for hardware and services: real protocols, real sockets, no mocks."""
