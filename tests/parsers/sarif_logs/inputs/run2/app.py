"""Second version: one line added on top, pickle gone, shell=True kept, password suppressed."""
import subprocess


def run(cmd):
    return subprocess.call(cmd, shell=True)


password = "hunter2"  # nosemgrep: hardcoded-password
assert password
