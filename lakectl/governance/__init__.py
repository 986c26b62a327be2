"""Governance: Unity Catalog access as code (`lakectl grant`).

policy.py reads and validates configs/grants.yaml; plan.py diffs it against a backend's grants;
backend.py is the interface a backend implements; uc_oss.py is the open-source Unity Catalog
server over plain HTTP. No Spark, no JVM, no SDK on this path.
"""
