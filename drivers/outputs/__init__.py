"""Output drivers: lights, lamps and interlocks the packer relies on."""
