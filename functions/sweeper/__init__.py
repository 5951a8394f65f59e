"""The sweeper: fails the jobs that waited longer than the jobs queue keeps a message."""
