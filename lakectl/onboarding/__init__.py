"""Getting started and staying healthy: `lakectl init` (a commented config and the lake's folders)
and `lakectl doctor` (one line per environment check, each with a fix). Neither starts a JVM."""
