# restorekit: `make demo` and `make test` set themselves up on a fresh clone.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# A CPU build of torch: the pinned one where it lies on this disk, else PyTorch's CPU index,
# else whatever pip finds. Never a multi-GB CUDA build unless nothing else is reachable.
TORCH_CPU ?= torch==2.13.0
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
STAMP  := $(VENV)/.installed

.PHONY: install demo test test-slow bench device-data train-gpu clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q "$(TORCH_CPU)" \
	  || $(PY) -m pip install -q torch --index-url $(TORCH_CPU_INDEX) \
	  || $(PY) -m pip install -q torch
	$(PY) -m pip install -q -e ".[test]"
	touch $(STAMP)

demo: install
	$(PY) -m restorekit.demo --out out/demo

test: install
	$(PY) -m pytest -q -m "not slow"

# Tests that need ../shared/data, a browser or minutes of compute: their own target.
test-slow: install
	$(PY) -m pytest -q -m slow

bench: install
	$(PY) benchmarks/run.py
	$(PY) benchmarks/memory.py
	$(PY) benchmarks/memory.py --auto

# The GPU recipe (scripts/train_gpu.py): the training images copied where the device tool
# carries them (.device/ is ignored by git), then one command on the GPU machine.
device-data:
	mkdir -p .device/data
	cp -r ../shared/data/train/Train400 ../shared/data/train/CBSD432 .device/data/

train-gpu: install
	$(PY) scripts/train_gpu.py --data ../shared/data/train --out runs/gpu

clean:
	rm -rf $(VENV) out build dist *.egg-info
