"""envstamp's tests: one folder per package of envstamp/, the attack suite in adversarial/,
end-to-end runs in e2e/; support modules (*_support.py) and fixtures/ are shared."""
