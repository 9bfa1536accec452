"""The JUnit XML that CI systems read (GitLab, Jenkins, GitHub Actions reporters): one
``testsuite`` per scenario, one ``testcase`` per step (the cold start first), each
failure carrying the expected-against-actual lines, a step that could not run an
``error``, and the steps after it ``skipped``."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable

from .run import ScenarioResult


def junit_xml(results: Iterable[ScenarioResult]) -> str:
    root = ET.Element("testsuites", name="bagctl test")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for result in results:
        counts = {
            "tests": len(result.steps),
            "failures": sum(1 for s in result.steps if s.ran and not s.error and s.failures),
            "errors": sum(1 for s in result.steps if s.error),
            "skipped": sum(1 for s in result.steps if not s.ran),
        }
        attrs = {"name": result.name, "file": result.file, "time": f"{result.wall_s:.3f}"}
        suite = ET.SubElement(root, "testsuite", attrs | {k: str(v) for k, v in counts.items()})
        for step in result.steps:
            case = ET.SubElement(
                suite, "testcase", classname=result.name, name=step.name, time=f"{step.wall_s:.3f}"
            )
            if step.line is not None:
                case.set("file", result.file)
                case.set("line", str(step.line))
            if not step.ran:
                ET.SubElement(case, "skipped", message="an earlier step could not run")
            elif step.error is not None:
                ET.SubElement(case, "error", message=step.error).text = step.error
            elif step.failures:
                first = step.failures[0].splitlines()[0]
                ET.SubElement(case, "failure", message=first).text = "\n".join(step.failures)
        for key in totals:
            totals[key] += counts[key]
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


__all__ = ["junit_xml"]
