"""Camera drivers: one still image per capture, for the evidence of each parcel."""
