"""Host probe: OS, machine, and the wheel tags that decide which runtime builds can load."""

from __future__ import annotations

import platform
import sys
import sysconfig

from hearth.hardware import parse
from hearth.hardware.model import HostInfo


def probe_host() -> HostInfo:
    uname = platform.uname()
    return HostInfo(
        os=parse.os_name(uname.system),
        os_release=uname.release,
        machine=uname.machine,
        platform_tag=parse.platform_tag(sysconfig.get_platform()),
        python_tag=parse.python_tag(
            sys.implementation.name, sys.version_info.major, sys.version_info.minor
        ),
        python_version=platform.python_version(),
    )
