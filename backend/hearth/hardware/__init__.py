"""Hardware detection: probes (nvidia-smi, NVML, CPU, RAM) do the I/O; `parse` and `policy` decide.

Entry points: `detect.detect` (with the cache), `service.HardwareService` (for the app),
`report.detect_command` (for `python -m hearth detect`)."""
