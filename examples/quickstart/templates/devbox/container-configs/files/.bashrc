# ~/.bashrc of the dev user (deployed once; your edits are kept).

# Not interactive: nothing to do.
case $- in
  *i*) ;;
  *) return ;;
esac

HISTCONTROL=ignoreboth
HISTSIZE=10000
HISTFILESIZE=20000
shopt -s histappend checkwinsize

export EDITOR=vim
export PATH="$HOME/.npm-global/bin:$HOME/.local/bin:$PATH"

alias ll='ls -alF'
alias la='ls -A'
alias gs='git status -sb'

if command -v direnv >/dev/null 2>&1; then
  eval "$(direnv hook bash)"
fi
if command -v starship >/dev/null 2>&1; then
  eval "$(starship init bash)"
else
  PS1='\u@\h:\w\$ '
fi
