"""Local model files: assembling and verifying the weights the local generator runs."""
