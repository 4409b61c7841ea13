"""The domain: the model itself.

State arrays, park and space, link economics, trust, links, shared facilities, firm
behaviour, the operator and the government, indicators and the EIP assessment. It imports
the scenario layer, never the applications (run output, experiments, viz, CLI).
"""
