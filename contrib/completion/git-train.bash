# bash completion for git-train: `git train <TAB>` completes commands, EC2
# instance types, each command's options, refs, remotes and run ids.
#
# `make install` puts this file where bash-completion's loader finds it
# (<prefix>/share/bash-completion/completions/git-train): git's completion
# asks that loader for `_git_train` the first time you complete `git train`,
# so nothing needs setting up. Without bash-completion, source git's own
# completion (git-completion.bash) and then this file from ~/.bashrc:
#
#     . /path/to/git-completion.bash
#     . /path/to/git-train.bash
#
# Commands and options are read from `git train -h` and `git train <cmd> -h`
# once per shell, so they follow the installed git-train. Run ids come from
# the notes in refs/notes/train.
#
# Everything at the top level of this file must stay global without
# `declare`: bash-completion sources it from inside a function.
#
# cur, prev, words and cword are set by git's completion before it calls
# _git_train.
# shellcheck disable=SC2154

# Families and their sizes, offered as the first word: `git train g5.<TAB>`.
# Only x86_64 families: the default AMI is x86_64 Amazon Linux.
# Set GIT_TRAIN_COMPLETION_INSTANCE_TYPES (space-separated full types) to
# offer your own list instead.
__git_train_instance_families='
t3:nano,micro,small,medium,large,xlarge,2xlarge
t3a:nano,micro,small,medium,large,xlarge,2xlarge
m5:large,xlarge,2xlarge,4xlarge,8xlarge,12xlarge,16xlarge,24xlarge
m6i:large,xlarge,2xlarge,4xlarge,8xlarge,12xlarge,16xlarge,24xlarge,32xlarge
m7i:large,xlarge,2xlarge,4xlarge,8xlarge,12xlarge,16xlarge,24xlarge,48xlarge
c5:large,xlarge,2xlarge,4xlarge,9xlarge,12xlarge,18xlarge,24xlarge
c6i:large,xlarge,2xlarge,4xlarge,8xlarge,12xlarge,16xlarge,24xlarge,32xlarge
c7i:large,xlarge,2xlarge,4xlarge,8xlarge,12xlarge,16xlarge,24xlarge,48xlarge
r5:large,xlarge,2xlarge,4xlarge,8xlarge,12xlarge,16xlarge,24xlarge
r6i:large,xlarge,2xlarge,4xlarge,8xlarge,12xlarge,16xlarge,24xlarge,32xlarge
g4dn:xlarge,2xlarge,4xlarge,8xlarge,12xlarge,16xlarge
g5:xlarge,2xlarge,4xlarge,8xlarge,12xlarge,16xlarge,24xlarge,48xlarge
g6:xlarge,2xlarge,4xlarge,8xlarge,12xlarge,16xlarge,24xlarge,48xlarge
g6e:xlarge,2xlarge,4xlarge,8xlarge,12xlarge,16xlarge,24xlarge,48xlarge
p3:2xlarge,8xlarge,16xlarge
p3dn:24xlarge
p4d:24xlarge
p5:48xlarge
inf2:xlarge,8xlarge,24xlarge,48xlarge
trn1:2xlarge,32xlarge
'

__git_train_regions='us-east-1 us-east-2 us-west-1 us-west-2 ca-central-1
sa-east-1 eu-west-1 eu-west-2 eu-west-3 eu-central-1 eu-north-1 eu-south-1
ap-south-1 ap-northeast-1 ap-northeast-2 ap-northeast-3 ap-southeast-1
ap-southeast-2 af-south-1 me-south-1'

# A run id: start time, then the commit and a random part.
__git_train_run_id_re='^[0-9]{8}-[0-9]{6}-[0-9a-f]+-[0-9a-f]+'

# The commands `git train -h` lists, minus plumbing, into
# __git_train_commands (cached for the shell: one git-train process per shell).
__git_train_load_commands ()
{
	local line in_list='' re='^ +([a-z][a-z0-9-]*) '

	[ -n "${__git_train_commands-}" ] && return
	while IFS= read -r line; do
		case "$line" in
		commands:)	in_list=y ;;
		'')		in_list= ;;
		*'(plumbing)'*)	;;
		*)
			[ -n "$in_list" ] && [[ $line =~ $re ]] &&
				__git_train_commands+=" ${BASH_REMATCH[1]}"
			;;
		esac
	done < <(__git train -h)
}

# The long options of a command, read from its usage (`git train <cmd> -h`),
# cached per command in __git_train_opts_<cmd> (in __gitcomp's form: "--rev="
# for an option taking a value, "--" then the "--no-" forms of the booleans)
# and __git_train_vals_<cmd> (the options taking a value, "-o/--output" for a
# short one). $1 is the command word, $2 the cache key.
__git_train_load_options ()
{
	local word="$1" key="${2//-/_}" line opts='' nos='' vals=''
	local re='^ +(-([[:alnum:]]), )?--([[:alnum:]][[:alnum:]-]*)( <)?'

	eval "[ -n \"\${__git_train_opts_$key-}\" ]" && return
	while IFS= read -r line; do
		[[ $line =~ $re ]] || continue
		if [ -n "${BASH_REMATCH[4]}" ]; then
			opts+=" --${BASH_REMATCH[3]}="
			vals+=" --${BASH_REMATCH[3]}"
			[ -n "${BASH_REMATCH[2]}" ] &&
				vals+=" -${BASH_REMATCH[2]}/--${BASH_REMATCH[3]}"
		else
			opts+=" --${BASH_REMATCH[3]}"
			[[ ${BASH_REMATCH[3]} == no-* ]] || nos+=" --no-${BASH_REMATCH[3]}"
		fi
	done < <(__git train "$word" -h)
	[ -n "$nos" ] && opts+=" --$nos"
	eval "__git_train_opts_$key=\$opts; __git_train_vals_$key=\$vals"
}

__git_train_complete_options ()
{
	eval "__gitcomp \"\${__git_train_opts_${1//-/_}-}\""
}

# Prints the long name of option $1 if it takes a value ("-o" -> "--output").
__git_train_value_option ()
{
	local vals
	eval "vals=\" \${__git_train_vals_${2//-/_}-} \""
	case "$vals" in
	*" $1 "*)	echo "$1" ;;
	*" $1/"*)	vals="${vals#* "$1"/}"; echo "${vals%% *}" ;;
	esac
}

# Instance types for the word $1: the families, then a family's sizes once
# its dot is typed.
__git_train_complete_instance_type ()
{
	local cur_="$1" family line types='' IFS=$' \t\n'

	if [ -n "${GIT_TRAIN_COMPLETION_INSTANCE_TYPES-}" ]; then
		__gitcomp "$GIT_TRAIN_COMPLETION_INSTANCE_TYPES" "" "$cur_"
		return
	fi
	case "$cur_" in
	*.*)
		family="${cur_%%.*}"
		for line in $__git_train_instance_families; do
			[ "${line%%:*}" = "$family" ] || continue
			line="${line#*:}"
			types="$family.${line//,/ $family.}"
		done
		;;
	*)
		for line in $__git_train_instance_families; do
			types+=" ${line%%:*}."
		done
		;;
	esac
	__gitcomp "$types" "" "$cur_"
}

# Run ids recorded in the notes, one a line.
__git_train_run_ids ()
{
	__git grep --no-color --no-line-number --no-column -h -o -E \
		"$__git_train_run_id_re" refs/notes/train -- | sort -u
}

# Metric names recorded in the notes, one a line.
__git_train_metrics ()
{
	__git grep --no-color --no-line-number --no-column -h -o -E \
		' metric\.[^= ]+=' refs/notes/train -- |
		sed -e 's/^ metric\.//' -e 's/=$//' | sort -u
}

# Sweep ids recorded in the notes, one a line.
__git_train_sweep_ids ()
{
	__git grep --no-color --no-line-number --no-column -h -o -E \
		' sweep=sweep-[0-9]{8}-[0-9]{6}-[0-9a-f]{4}' refs/notes/train -- |
		sed -e 's/^ sweep=//' | sort -u
}

# Completes the value of option $1 of command $2; $3 is the value so far.
__git_train_complete_value ()
{
	local opt="$1" cmd="$2" cur_="$3"

	case "$opt" in
	--rev)			__git_complete_refs --cur="$cur_" ;;
	--instance-type)	__git_train_complete_instance_type "$cur_" ;;
	--region)		__gitcomp "$__git_train_regions" "" "$cur_" ;;
	--image)		__gitcomp "pytorch base al2023" "" "$cur_" ;;
	--remote)		__gitcomp_nl "$(__git_remotes)" "" "$cur_" ;;
	--best)			__gitcomp "min max" "" "$cur_" ;;
	--metric)		__gitcomp_nl "$(__git_train_metrics)" "" "$cur_" ;;
	--resume-from)		__gitcomp_nl "$(__git_train_run_ids)" "" "$cur_" ;;
	--nodes)		__gitcomp "2 3 4 8 16" "" "$cur_" ;;
	--sweep)
		# compare's takes a sweep id; a run's, name=values of the user's own
		[ "$cmd" = compare ] && __gitcomp_nl "$(__git_train_sweep_ids)" "" "$cur_"
		;;
	--output)
		# a run's output format; archive's --output is a file name
		[ "$cmd" = run ] && __gitcomp "text run-id instance-id json" "" "$cur_"
		;;
	esac
	# anything else (a path, a duration, an id): bash's default completion
}

# Counts the arguments (not options, not option values) between the command
# word (index $1) and the word being completed, into $nargs. $2 is the
# options cache key.
__git_train_count_args ()
{
	local i=$(($1 + 1)) w

	nargs=0
	while ((i < cword)); do
		w="${words[i]}"
		case "$w" in
		--*=*)	;;
		-*)	[ -n "$(__git_train_value_option "$w" "$2")" ] && ((i++)) ;;
		*)	((nargs++)) ;;
		esac
		((i++))
	done
}

_git_train ()
{
	local c="${__git_cmd_idx-}" i cmd key opt nargs

	# git < 2.31 does not say where the command is
	if [ -z "$c" ]; then
		case "${words[0]}" in
		*git-train)	c=0 ;;
		*)		c=1 ;;
		esac
	fi
	((c++))

	if ((cword == c)); then
		case "$cur" in
		-*)	__gitcomp "--help --version" ;;
		*.*)	__git_train_complete_instance_type "$cur" ;;
		*)
			__git_train_load_commands
			__gitcomp "${__git_train_commands-}"
			# and the families: the first word may be an instance type
			local commands=("${COMPREPLY[@]}")
			COMPREPLY=()
			__git_train_complete_instance_type "$cur"
			COMPREPLY=("${commands[@]}" "${COMPREPLY[@]}")
			;;
		esac
		return
	fi

	# after "--" come the training script's arguments: bash's default
	for ((i = c + 1; i < cword; i++)); do
		[ "${words[i]}" = "--" ] && return
	done

	cmd="${words[c]}"
	key="$cmd"
	case "$cmd" in
	''|*[!a-z0-9.-]*)	return ;; # no command, no instance type
	*.*)			key=run ;;
	esac
	__git_train_load_options "$cmd" "$key"

	case "$cur" in
	--*=*)
		__git_train_complete_value "${cur%%=*}" "$key" "${cur#*=}"
		return
		;;
	-*)
		__git_train_complete_options "$key"
		return
		;;
	esac
	opt=$(__git_train_value_option "$prev" "$key")
	if [ -n "$opt" ] && ((cword - 1 > c)); then
		__git_train_complete_value "$opt" "$key" "$cur"
		return
	fi

	__git_train_count_args "$c" "$key"
	case "$key" in
	log|smoke)
		__git_complete_revlist
		;;
	archive)
		__git_complete_refs
		;;
	compare)
		# two commits, or two runs
		case "$cur" in
		[0-9]*)	__gitcomp_nl "$(__git_train_run_ids)" ;;
		*)	__git_complete_refs ;;
		esac
		;;
	status|stop)
		__gitcomp_nl "$(__git_train_run_ids)"
		;;
	logs|outputs|resume)
		((nargs == 0)) && __gitcomp_nl "$(__git_train_run_ids)"
		;;
	notes)
		case "$nargs" in
		0)	__gitcomp "push pull" ;;
		1)	__gitcomp_nl "$(__git_remotes)" ;;
		esac
		;;
	hooks)
		((nargs == 0)) && __gitcomp "install uninstall"
		;;
	*)
		# no arguments before "--": offer the options
		__git_train_complete_options "$key"
		;;
	esac
}

# `git-train <TAB>` too, when git's completion is there to lean on
# (bash-completion loads this file for that command as well).
if ! declare -F __git_complete >/dev/null 2>&1 &&
	declare -F __load_completion >/dev/null 2>&1; then
	__load_completion git
fi
if declare -F __git_complete >/dev/null 2>&1; then
	__git_complete git-train _git_train
fi
