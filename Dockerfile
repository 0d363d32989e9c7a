# imgcap web service: the REST API and the page on port 8000.
# UNTESTED: written without a Docker engine at hand (none on the development machine).
#
#   docker build -t imgcap .
#   docker run --rm -p 127.0.0.1:8000:8000 imgcap      # then open http://127.0.0.1:8000/
#
# The model that `imgcap serve` loads is the one shipped in the package
# (imgcap/models/flickr8k.safetensors), so build from a checkout that has it; or mount another
# model and point IMGCAP_MODEL at it: docker run -v $PWD/m:/m -e IMGCAP_MODEL=/m/best.safetensors ...
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY . /app
# Plain `pip install .` takes torch from PyPI (a large CUDA build); point pip at a CPU-only torch
# build of your choice to make the image smaller.
RUN pip install . \
 && useradd --create-home imgcap
USER imgcap
# A folder torch and the encoders may write caches to.
ENV HOME=/home/imgcap

EXPOSE 8000
CMD ["imgcap", "serve", "--host", "0.0.0.0", "--port", "8000"]
