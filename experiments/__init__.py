"""absl entry points: train, evaluate, explore, benchmark, demo."""
