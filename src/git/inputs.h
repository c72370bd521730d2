/*
 * inputs: what a run brings in besides its code, from git config (and the
 * command line, which adds `-c`-like settings over it):
 *
 *   train.data   <name>=s3://<bucket>/<prefix>   a data source (data.h)
 *   train.env    <KEY>=<value>                   an environment variable
 *   train.secret <KEY>=ssm:<parameter>           a secret, by reference
 *                <KEY>=secretsmanager:<secret>
 *
 * All three are multi-valued; a later entry of the same name replaces an
 * earlier one (so --data and --env override the config by name). Names
 * are checked before anything runs:
 *   - a data source's name is [A-Za-z0-9][A-Za-z0-9_.-]* (at most 64): it
 *     names a directory and, upper-cased with every other character made
 *     '_', the variable GIT_TRAIN_DATA_<NAME>; two names giving one
 *     variable are refused. The prefix gets a trailing '/' (s3://b/data
 *     is the "directory" data/, as `aws s3 sync` reads it); it may not
 *     start with '/' nor hold control characters.
 *   - a variable's name is [A-Za-z_][A-Za-z0-9_]*, neither GIT_TRAIN_*
 *     (git-train's own) nor one the runner and the script's start rely on:
 *     PATH, HOME, PWD, IFS, and the GIT_* variables that point git at a
 *     repository. One name is not both a train.env and a train.secret.
 *   - a secret's reference is ssm:<name or ARN> or
 *     secretsmanager:<name or ARN>, of the characters AWS allows in them.
 * A secret's value is never here: only where it is (services/secrets.h
 * reads it). The run's note and doctor's checks read the same settings.
 */
#ifndef GIT_INPUTS_H
#define GIT_INPUTS_H

#include <stddef.h>

#include "git/config.h"
#include "git/run-record.h"

struct inputs_data {
	char *name;
	char *var; /* GIT_TRAIN_DATA_<NAME> */
	char *bucket;
	char *prefix;	   /* "" or ending in '/' */
	char *fingerprint; /* data.h, once listed; NULL before */
};

struct inputs_env {
	char *name;
	char *value;
};

struct inputs_secret {
	char *name;
	int manager; /* 0: "ssm:<parameter>", 1: "secretsmanager:<secret>" (services/secrets.h) */
	char *ref;   /* after "ssm:" or "secretsmanager:" */
};

struct run_inputs {
	struct inputs_data *data;
	size_t nr_data;
	struct inputs_env *env;
	size_t nr_env;
	struct inputs_secret *secrets;
	size_t nr_secrets;
};

/* Reads and checks train.data, train.env and train.secret. 0, or -1 with err_set. */
int inputs_load(struct run_inputs *out, const struct config *cfg);
void inputs_release(struct run_inputs *in);

/* s3://<bucket>/<prefix> of a source (caller frees). */
char *inputs_data_uri(const struct inputs_data *d);

/*
 * The note's fields: env=K1,K2 and secrets=K1,K2 (names only, sorted) and
 * data.<name>=<fingerprint> for each listed source.
 */
void inputs_note(struct run_record *rec, const struct run_inputs *in);

#endif
