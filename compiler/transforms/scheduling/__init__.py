"""Shared machinery of the MCU scheduling passes (tile-attention-rows, tile-ffn-rows)."""
