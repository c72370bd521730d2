/*
 * image: the AMI an instance boots, as train.image (--image) names it.
 *
 *   pytorch  the newest AWS Deep Learning AMI with PyTorch on Amazon Linux
 *            2023 for the type's architecture: the highest <version> among
 *            the public SSM parameters /aws/service/deeplearning/ami/<arch>/
 *            oss-nvidia-driver-gpu-pytorch-<version>-amazon-linux-2023/
 *            latest/ami-id (GetParametersByPath; 2.10 is newer than 2.9).
 *            Its framework Python is /opt/pytorch/bin/python (AWS's DLAMI
 *            release notes: `source /opt/pytorch/bin/activate`).
 *            The default for types with NVIDIA GPUs (DescribeInstanceTypes'
 *            GpuInfo).
 *   base     the Base DLAMI (NVIDIA driver and CUDA, no framework):
 *            .../base-oss-nvidia-driver-gpu-amazon-linux-2023/latest/ami-id.
 *   al2023   Amazon Linux 2023 (/aws/service/ami-amazon-linux-latest/
 *            al2023-ami-kernel-default-<arch>): the default for other types.
 *   ami-...  that AMI (train.ami and --ami name one too).
 *
 * The root volume: the image's snapshot plus room for data and checkpoints
 * (IMAGE_ROOM_GPU_GIB on the DLAMIs, IMAGE_ROOM_GIB on the others) unless
 * train.volumeSize says how much; never less than the snapshot.
 */
#ifndef SERVICES_IMAGE_H
#define SERVICES_IMAGE_H

#include "aws/client.h"
#include "services/aws-checks.h"
#include "util/strvec.h"

#define IMAGE_ROOM_GPU_GIB   100
#define IMAGE_ROOM_GIB	     20
#define IMAGE_PYTORCH_PYTHON "/opt/pytorch/bin/python"

enum image_kind {
	IMAGE_DEFAULT, /* by the type: pytorch with NVIDIA GPUs, else al2023 */
	IMAGE_PYTORCH,
	IMAGE_BASE,
	IMAGE_AL2023,
	IMAGE_ID,
};

struct image {
	enum image_kind kind;
	char *ami;
	char *name; /* what it is: "PyTorch 2.7 Deep Learning AMI (Amazon Linux 2023, x86_64)" */
	const char *python;    /* its framework Python (static); NULL: none known */
	const char *framework; /* "torch" with the PyTorch DLAMI; NULL */
	int dlami;	       /* a Deep Learning AMI: room for data and checkpoints */
};

/* train.image's value: pytorch, base, al2023 or an AMI id. 0, or -1 with err_set. */
int image_parse(enum image_kind *out, const char *value);

/*
 * The newest PyTorch DLAMI among SSM parameter names: the index of the one
 * with the highest version, compared numerically part by part, and that
 * version (*out_version, caller frees); -1 when there is none.
 */
int image_newest_pytorch(char **out_version, const struct strvec *names);

/*
 * Resolves value (NULL: the type's default) for type t. 0, or -1 with
 * err_set and a hint.
 */
int image_resolve(struct image *out, struct aws_client *c, const char *value,
		  const struct aws_instance_type *t);
void image_release(struct image *im);

/* The root volume in GiB for an image of root_gib (0: unknown). */
int image_volume_gib(const struct image *im, int root_gib);

#endif
