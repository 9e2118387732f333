# SPDX-License-Identifier: Apache-2.0
# bash completion for banshi(1): commands, each command's options (as
# `banshi COMMAND --help --lang en` lists them) and the values they take.
_banshi()
{
    local cur prev words cword
    _init_completion -s 2>/dev/null || {
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD-1]}
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
    }
    local commands="render validate convert batch archive new"
    if [[ $cword -eq 1 ]]; then
        COMPREPLY=($(compgen -W "$commands --help --version" -- "$cur"))
        return
    fi
    local cmd=${words[1]}
    case $prev in
        --lang) COMPREPLY=($(compgen -W "zh en" -- "$cur")); return ;;
        --diagnostics) COMPREPLY=($(compgen -W "text json" -- "$cur")); return ;;
        --pdfa) COMPREPLY=($(compgen -W "1b 2a 3b" -- "$cur")); return ;;
        --template)
            local dir=${BANSHI_DATA:-/usr/share/banshi}/templates
            COMPREPLY=($(compgen -W "$(cd "$dir" 2>/dev/null && ls *.xml 2>/dev/null | sed 's/\.xml$//')" -- "$cur"))
            COMPREPLY+=($(compgen -f -X '!*.xml' -- "$cur"))
            return ;;
        -o|--output)
            if [[ $cmd == batch || $cmd == archive ]]; then
                COMPREPLY=($(compgen -d -- "$cur"))
            else
                COMPREPLY=($(compgen -f -- "$cur"))
            fi
            return ;;
        --verify) COMPREPLY=($(compgen -d -- "$cur")); return ;;
        -j|--jobs|--shard|--organization|--year|--issuer|--format) return ;;
        --fonts|--dump|--previous|--log) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    esac
    if [[ $cur == -* ]]; then
        local opts
        opts=$(banshi "$cmd" --help --lang en 2>/dev/null |
               grep -o -- '--[a-z][a-z-]*' | sort -u)
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return
    fi
    case $cmd in
        batch|archive) COMPREPLY=($(compgen -f -- "$cur")) ;;
        *) COMPREPLY=($(compgen -f -X '!*.xml' -- "$cur"))
           COMPREPLY+=($(compgen -d -- "$cur")) ;;
    esac
}
complete -F _banshi banshi
