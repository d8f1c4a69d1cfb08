# Login-shell defaults for every user of the dev box (/etc/profile.d/devbox.sh).
# Managed by the template (policy replace): local edits are overwritten.
export EDITOR=vim
export LANG=en_US.UTF-8
case ":$PATH:" in
  *:/usr/local/bin:*) ;;
  *) PATH="/usr/local/bin:$PATH" ;;
esac
