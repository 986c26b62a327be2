"""JUnit XML for CI systems: one testcase per SLA check, a <failure> for each breach."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from lakectl.monitor.sla import Check


def junit_xml(checks: list[Check], *, suite: str = "lakectl.monitor.check", duration_s: float = 0.0) -> str:
    failures = sum(1 for c in checks if c.status == "breach")
    skipped = sum(1 for c in checks if c.status == "skipped")
    root = ET.Element("testsuites", name="lakectl", tests=str(len(checks)), failures=str(failures))
    ts = ET.SubElement(
        root,
        "testsuite",
        name=suite,
        tests=str(len(checks)),
        failures=str(failures),
        errors="0",
        skipped=str(skipped),
        time=f"{duration_s:.3f}",
    )
    for c in checks:
        case = ET.SubElement(ts, "testcase", classname=f"{suite}.{c.kind}", name=c.name, time="0")
        if c.status == "breach":
            failure = ET.SubElement(case, "failure", type="SlaBreach", message=c.message)
            failure.text = f"value={c.value} threshold={c.threshold}"
        elif c.status == "skipped":
            ET.SubElement(case, "skipped", message=c.message)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(path: str, checks: list[Check], duration_s: float = 0.0) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(junit_xml(checks, duration_s=duration_s))
