"""Loop nests for `tile-to-loops`: one module per family of tile kernels, each building scf/arith/
memref IR that implements docs/quantization.md exactly, on the kernel's buffers."""
