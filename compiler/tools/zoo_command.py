"""`mote zoo`: the zoo's models as float ONNX files, with inputs to run and calibrate them.

Example inputs and calibration inputs come from different data (for MiniLM: the shipped
sentences and the separate calibration sentences; for the synthetic models: different
seeds), so that accuracy is never measured on what the quantizer was calibrated with.
"""

from __future__ import annotations

from pathlib import Path

from compiler.errors import MoteError


def zoo_command(
    name: str | None,
    output: Path | None,
    seq_len: int,
    seed: int,
    inputs: Path | None,
    calib: Path | None,
    max_positions: int | None = None,
) -> None:
    from compiler.frontend.zoo import ZOO, ZooError, save_inputs, save_model

    if name is None:
        for zoo_name, entry in ZOO.items():
            print(f"  {zoo_name:12} {entry.summary}")
        return
    if output is None:
        raise MoteError("mote zoo: give the .onnx file to write with -o FILE.onnx")
    try:
        for path in (output, inputs, calib):
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
        save_model(name, output, seq_len, seed, max_positions=max_positions)
        print(f"wrote {name} (sequence length {seq_len}) to {output}")
        synthetic = ZOO[name].synthetic
        if inputs is not None:
            save_inputs(name, inputs, seq_len, seed=seed + 1, max_positions=max_positions)
            print(f"wrote example inputs to {inputs}")
        if calib is not None:
            kwargs = {"seed": seed + 2} if synthetic else {"source": "calibration"}
            save_inputs(name, calib, seq_len, max_positions=max_positions, **kwargs)
            print(f"wrote calibration inputs to {calib}")
    except ZooError as err:
        raise MoteError(str(err)) from None
