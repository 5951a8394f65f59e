"""The worker function: consumes the jobs queue and stylizes each job (torch, on its first job)."""
