#!/usr/bin/env bash
# The CUDA kernels' logic on the CPU: compiles kernels/cuda/*.cu with g++
# against a CPU emulation of CUDA threads, shared memory, warp shuffles,
# atomics and cuBLAS (include/cuda_emu.h), links them in place of the real
# CUDA objects and runs tests/gpu/test_gpu_kernels against kernels/cpu.
# What it checks: indexing, masking, reductions, synchronisation, the
# numerics of every kernel. What it cannot: speed, the hardware's limits,
# nvcc's code generation; tests/gpu/run.sh on a GPU does those.
# Slow (every block's threads are pthreads): about 3 minutes on 2 cores
# without the model case (50 training steps per MLP kind, much longer);
# CASE=NAME (memory, blas, layers, optimizer, model) runs one test case. Needs a CUDA=1 build of the CPU objects
# (make cuda) for kernels/dispatch.o.
set -eu
cd "$(dirname "$0")/../../.."
make -s cuda >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
inc=(-Itests/gpu/emu/include -Ikernels -Ikernels/cuda -Ilib $(pkg-config --cflags openblas))
for f in kernels/cuda/*.cu; do
    b=$(basename "$f" .cu)
    python3 tests/gpu/emu/launch.py "$f" "$out/$b.cpp"
    g++ -std=c++17 -O1 -g -w "${inc[@]}" -c "$out/$b.cpp" -o "$out/$b.o"
done
g++ -std=c++17 -O1 -g -w "${inc[@]}" -c tests/gpu/emu/emu.cpp -o "$out/emu.o"
ar rcs "$out/libtrain.a" trainer/*.o kernels/*.o kernels/cpu/*.o "$out"/*.o
gcc -O1 -g -std=gnu11 -fopenmp -pthread -Ilib -Itrainer -Ikernels -Itests/unit \
    $(pkg-config --cflags openblas) -o "$out/test_gpu_kernels" tests/gpu/test_gpu_kernels.c \
    "$out/libtrain.a" lib/libar.a $(pkg-config --libs check openblas libgit2 yaml-0.1 sqlite3) \
    -ljq -lonig -lm -lstdc++
if [ -n "${CASE:-}" ]; then export CK_RUN_CASE=$CASE; else export CK_EXCLUDE_CASE=model; fi
CK_VERBOSITY=normal "$out/test_gpu_kernels"
