"""Training-side tools: synthetic degradations and clip datasets."""
