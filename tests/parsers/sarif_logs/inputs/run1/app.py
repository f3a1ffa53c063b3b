import subprocess
import pickle


def run(cmd):
    return subprocess.call(cmd, shell=True)


def load(blob):
    return pickle.loads(blob)


password = "hunter2"
assert password
