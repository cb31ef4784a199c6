"""Stand-in for `opentelemetry.exporter.otlp.proto.grpc.trace_exporter` inside the frozen backend
(backend.spec puts it in the archive under that name, in place of the real module).

chromadb.telemetry.opentelemetry imports OTLPSpanExporter when chromadb is imported, but builds
one only in otel_init(), when its OpenTelemetryClient starts with chroma_otel_granularity set
(CHROMA_OTEL_GRANULARITY) to send traces to a collector. Hearth never asks for that: it is private
and offline, with chromadb's telemetry off (and its embedded client did not build one even with
CHROMA_OTEL_GRANULARITY=all). The real module would bring gRPC and protobuf, about 19 MB.
"""

from __future__ import annotations

from typing import Any

HEARTH_STAND_IN = True  # what build/frozen_selfcheck.py looks for


class OTLPSpanExporter:
    """Refuses to be built: the bundle sends no traces anywhere."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError(
            "Hearth's backend does not include OpenTelemetry's gRPC exporter: chromadb tracing "
            "(CHROMA_OTEL_GRANULARITY) cannot be turned on; unset it."
        )
