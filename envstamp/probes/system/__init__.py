"""System probes: host, OS, CPU, memory, Python, environment variables, power, state."""
