/*
 * clone-id: this clone's secret and its seals. See clone-id.h.
 */
#include "git/clone-id.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "git/config.h"
#include "git/run-git.h"
#include "util/util.h"

#define SECRET_BYTES 32
#define SEAL_BYTES   16

static int read_secret(char **out, git_repository *repo)
{
	struct config cfg;
	int r;

	if (config_load(&cfg, repo))
		return -1;
	r = config_get_string_or(out, &cfg, CLONE_ID_KEY, NULL);
	config_release(&cfg);
	if (r < 0)
		return -1;
	return *out ? 0 : 1;
}

/* A new secret in the local config, with git itself (as `git train init` writes config). */
static int make_secret(git_repository *repo)
{
	unsigned char v[SECRET_BYTES];
	char hex[2 * SECRET_BYTES + 1];
	const char *args[] = { "config", "--local", CLONE_ID_KEY, hex, NULL };
	int r;

	if (getrandom(v, sizeof(v), 0) != (ssize_t)sizeof(v))
		return err_set("cannot make this clone's %s: no random bytes", CLONE_ID_KEY);
	hex_encode(hex, v, sizeof(v));
	r = run_git(NULL, repo, args);
	OPENSSL_cleanse(v, sizeof(v));
	OPENSSL_cleanse(hex, sizeof(hex));
	if (r > 0)
		err_set("cannot set %s in the repository's config: git config failed",
			CLONE_ID_KEY);
	return r ? -1 : 0;
}

int clone_id_get(char **out, git_repository *repo, int create)
{
	int r = read_secret(out, repo);

	if (r != 1 || !create)
		return r;
	if (make_secret(repo))
		return -1;
	/* what is there now: a concurrent first seal may have written its own */
	r = read_secret(out, repo);
	if (r == 1)
		return err_set("%s is still unset after setting it", CLONE_ID_KEY);
	return r;
}

static void seal_with(char *out, const char *secret, const char *text)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)text, strlen(text),
	     md, &len);
	hex_encode(out, md, SEAL_BYTES);
	OPENSSL_cleanse(md, sizeof(md));
}

int clone_id_seal(char **out, git_repository *repo, const char *text)
{
	char *secret = NULL;

	*out = NULL;
	if (clone_id_get(&secret, repo, 1))
		return -1;
	*out = xmalloc(2 * SEAL_BYTES + 1);
	seal_with(*out, secret, text);
	OPENSSL_cleanse(secret, strlen(secret));
	free(secret);
	return 0;
}

int clone_id_check(git_repository *repo, const char *text, const char *seal)
{
	char want[2 * SEAL_BYTES + 1], *secret = NULL;
	int ok;

	if (clone_id_get(&secret, repo, 0)) {
		err_clear();
		return 0;
	}
	seal_with(want, secret, text);
	OPENSSL_cleanse(secret, strlen(secret));
	free(secret);
	ok = strlen(seal) == 2 * SEAL_BYTES && !CRYPTO_memcmp(want, seal, 2 * SEAL_BYTES);
	return ok;
}
