"""The test-side toolkit: what tests hand to learner code. Standard library only."""
