#ifndef FILAMENT_SHIM_H
#define FILAMENT_SHIM_H
// CFilamentShim exists for the few Linux calls Swift cannot make directly: the TUNSETIFF ioctl
// (its request number is a macro Swift cannot import). All symbols are prefixed `filament_`.

/// Opens /dev/net/tun and attaches it to interface `name` (IFF_TUN | IFF_NO_PI).
/// Returns the file descriptor, or -errno. `actual_name` (IFNAMSIZ bytes) receives the kernel's name.
int filament_tun_open(const char *name, char *actual_name);

#endif
