# Shared helpers of the shell scripts (sourced, not run).

# Prints the first interpreter that can import torch: $PYTHON, then the system python3 (which
# Debian's python3-torch belongs to), then whatever python3/python is on PATH. Returns 1 if none.
find_python() {
  local candidates=()
  [ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
  candidates+=(/usr/bin/python3 python3 python)
  local c exe
  for c in "${candidates[@]}"; do
    exe="$(command -v "$c" 2>/dev/null)" || continue
    if "$exe" -c 'import torch' >/dev/null 2>&1; then
      echo "$exe"
      return 0
    fi
    if [ -n "${PYTHON:-}" ] && [ "$c" = "$PYTHON" ]; then
      printf 'warning: $PYTHON=%s cannot import torch\n' "$PYTHON" >&2
    fi
  done
  return 1
}

# Like find_python, but exits with a clear message when there is none.
require_python() {
  find_python || {
    printf 'error: no Python interpreter with torch found (tried $PYTHON, /usr/bin/python3, python3, python).\n' >&2
    printf '       Set PYTHON=/path/to/python, run scripts/setup.sh, or create the conda environment in environment.yml.\n' >&2
    exit 2
  }
}

# The neuralom binary: $NEURALOM_BIN, else <root>/build/neuralom (built by scripts/setup.sh).
neuralom_binary() {
  local root="$1"
  local bin="${NEURALOM_BIN:-$root/build/neuralom}"
  if [ ! -x "$bin" ]; then
    printf 'error: %s not found; build it first with scripts/setup.sh (or set NEURALOM_BIN)\n' "$bin" >&2
    exit 2
  fi
  echo "$bin"
}

# Prints the CUDA compiler to build the torch-2.x flavour with: $CUDACXX, nvcc on PATH,
# $CUDA_HOME/bin/nvcc, /usr/local/cuda/bin/nvcc. Returns 1 if there is none. A wrapper script
# (e.g. /usr/local/bin/nvcc running the toolkit's) is resolved to the toolkit's own nvcc, whose
# directory CMake and LibTorch take the toolkit from.
find_nvcc() {
  local c exe here
  for c in ${CUDACXX:+"$CUDACXX"} nvcc ${CUDA_HOME:+"$CUDA_HOME/bin/nvcc"} /usr/local/cuda/bin/nvcc; do
    exe="$(command -v "$c" 2>/dev/null)" || continue
    "$exe" --version >/dev/null 2>&1 || continue
    here="$("$exe" -dryrun -x cu -c /dev/null -o /dev/null 2>&1 | sed -n 's/^#\$ _HERE_=//p' | head -n1)"
    if [ -n "$here" ] && [ -x "$here/nvcc" ]; then
      exe="$here/nvcc"
    fi
    echo "$exe"
    return 0
  done
  return 1
}
