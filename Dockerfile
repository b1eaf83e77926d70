# floe-infra's image: the platform's table maintenance CronJobs run `floe-infra maintenance run` in it
# (floe_infra/platform/maintenance.py). Build it from the repository's root at a release tag and push it
# where the cluster pulls from; its tag is floe-infra's version (FLOE_INFRA_IMAGE in floe_infra/versions.py):
#   docker build -t <registry>/floe-infra:0.1.0 .
# A registry other than the pinned one goes into deployment.services.maintenance.image_repository.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOME=/tmp

WORKDIR /opt/floe-infra

# The pinned runtime dependencies, then floe-infra itself (requirements.txt ends with `-e .`).
COPY pyproject.toml README.md requirements.txt ./
COPY floe_infra ./floe_infra
RUN pip install -r requirements.txt \
    && useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin floe

# The CronJobs run as this user, with a read-only root file system and /tmp as their only writable place.
USER 10001
ENTRYPOINT ["floe-infra"]
CMD ["--help"]
