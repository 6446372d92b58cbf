"""A worker that does not use the helper and prints outside the protocol."""
import sys

for line in sys.stdin:
    sys.stdout.write("Processing item...\n")
    sys.stdout.flush()
