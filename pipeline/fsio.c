// SPDX-License-Identifier: Apache-2.0
/* fsio.c - atomic file writes and folder helpers; see fsio.h.
 * Layer 0 (base): docs/architecture.md. */
#include "fsio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "arena.h"

char *
bs_temp_name(const char *path, long pid)
{
  /* The same shape as render_pdf.c's S_save: .NAME.PID.tmp */
  char *tmp = bs_xmalloc(strlen(path) + 32);
  const char *slash = strrchr(path, '/');
  if (slash)
    sprintf(tmp, "%.*s/.%s.%ld.tmp", (int)(slash - path), path, slash + 1,
            pid);
  else
    sprintf(tmp, ".%s.%ld.tmp", path, pid);
  return tmp;
}

bool
bs_temp_parse(const char *name, char **final, long *pid)
{
  size_t n = strlen(name);
  if (n < 8 || name[0] != '.' || strcmp(name + n - 4, ".tmp") != 0)
    return false;
  size_t end = n - 4, p = end;
  while (p > 1 && name[p - 1] >= '0' && name[p - 1] <= '9')
    p--;
  /* .NAME.PID-N.tmp (bs_atomic_open) or .NAME.PID.tmp (bs_temp_name) */
  if (p < end && p > 1 && name[p - 1] == '-') {
    end = p - 1;
    p = end;
    while (p > 1 && name[p - 1] >= '0' && name[p - 1] <= '9')
      p--;
  }
  if (p == end || p < 3 || name[p - 1] != '.')
    return false;
  *pid = strtol(name + p, NULL, 10);
  *final = bs_xmalloc(p - 1);
  memcpy(*final, name + 1, p - 2);
  (*final)[p - 2] = '\0';
  return true;
}

static char *
S_dir_of(const char *path)
{
  const char *slash = strrchr(path, '/');
  if (!slash)
    return strdup(".");
  if (slash == path)
    return strdup("/");
  return strndup(path, (size_t)(slash - path));
}

int
bs_fsync_dir(const char *dir)
{
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return errno;
  int rc = 0;
  if (fsync(fd) != 0 && errno != EINVAL && errno != EROFS)
    rc = errno;
  close(fd);
  return rc;
}

int
bs_atomic_open(bs_atomic *a, const char *path)
{
  /* A new file beside the target, never an existing one: O_EXCL and
   * O_NOFOLLOW, so that a name planted in a shared folder (a symbolic link
   * to another file) is never written through, and a counter, so that
   * threads of one process writing the same name do not share it. */
  static atomic_uint counter;
  memset(a, 0, sizeof *a);
  /* An existing device, FIFO or socket (/dev/null, /dev/stdout, a pipe)
   * is written in place: a file renamed over it would replace the device
   * node itself (as root, /dev/null becomes a PDF), and a stream has no
   * earlier content that a partial write could spoil. */
  struct stat node;
  if (stat(path, &node) == 0 && !S_ISREG(node.st_mode) &&
      !S_ISDIR(node.st_mode)) {
    int fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
      return errno;
    a->f = fdopen(fd, "w");
    if (!a->f) {
      int e = errno;
      close(fd);
      return e;
    }
    a->path = strdup(path);
    return 0;
  }
  char *tmp = bs_xmalloc(strlen(path) + 48);
  const char *slash = strrchr(path, '/');
  int fd = -1, e = 0;
  for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
    unsigned n = atomic_fetch_add(&counter, 1);
    if (slash)
      sprintf(tmp, "%.*s/.%s.%ld-%u.tmp", (int)(slash - path), path,
              slash + 1, (long)getpid(), n);
    else
      sprintf(tmp, ".%s.%ld-%u.tmp", path, (long)getpid(), n);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
              0644);
    e = errno;
    if (fd < 0 && e != EEXIST)
      break;
    /* Locked until the file is closed: a writer is alive exactly while its
     * temporary is locked, which the PID in its name cannot tell across
     * PID namespaces, containers or machines sharing the folder.  Between
     * open and flock another run's sweep (bs_remove_stale_temps) may find
     * the new file unlocked and remove it: wait for the lock (a sweep holds
     * it only for a moment), then make sure the file still has its name,
     * else take another.  Where the file system has no locks the file is
     * written unlocked, as a writer whose PID is gone would be. */
    if (fd >= 0) {
      struct stat st;
      while (flock(fd, LOCK_EX) != 0 && errno == EINTR)
        ;
      if (fstat(fd, &st) == 0 && st.st_nlink == 0) {
        close(fd);
        fd = -1;
        e = EEXIST;
      }
    }
  }
  if (fd < 0) {
    free(tmp);
    return e;
  }
  a->f = fdopen(fd, "w");
  if (!a->f) {
    e = errno;
    close(fd);
    unlink(tmp);
    free(tmp);
    return e;
  }
  a->path = strdup(path);
  a->tmp = tmp;
  a->durable = true;
  return 0;
}

static void
S_atomic_clear(bs_atomic *a)
{
  free(a->path);
  free(a->tmp);
  memset(a, 0, sizeof *a);
}

int
bs_atomic_commit(bs_atomic *a)
{
  int rc = 0;
  if (fflush(a->f) != 0 || ferror(a->f))
    rc = errno ? errno : EIO;
  /* a device or pipe written in place (no temporary) has nothing to sync
   * or rename */
  if (!rc && a->tmp && a->durable && fsync(fileno(a->f)) != 0)
    rc = errno;
  if (fclose(a->f) != 0 && !rc)
    rc = errno;
  a->f = NULL;
  if (!a->tmp) {
    S_atomic_clear(a);
    return rc;
  }
  if (!rc && rename(a->tmp, a->path) != 0)
    rc = errno;
  if (rc) {
    unlink(a->tmp);
  } else if (a->durable) {
    char *dir = S_dir_of(a->path);
    rc = bs_fsync_dir(dir);
    free(dir);
  }
  S_atomic_clear(a);
  return rc;
}

void
bs_atomic_abort(bs_atomic *a)
{
  if (a->f)
    fclose(a->f);
  if (a->tmp)
    unlink(a->tmp);
  S_atomic_clear(a);
}

int
bs_atomic_write(const char *path, const void *data, size_t len, bool durable)
{
  bs_atomic a;
  int rc = bs_atomic_open(&a, path);
  if (rc)
    return rc;
  a.durable = durable;
  if (len && fwrite(data, 1, len, a.f) != len) {
    rc = errno ? errno : EIO;
    bs_atomic_abort(&a);
    return rc;
  }
  return bs_atomic_commit(&a);
}

int
bs_mkdirs(const char *dir)
{
  struct stat st;
  if (stat(dir, &st) == 0)
    return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
  char *p = strdup(dir);
  int rc = 0;
  for (char *s = p + 1; *s && !rc; s++) {
    if (*s != '/')
      continue;
    *s = '\0';
    if (mkdir(p, 0777) != 0 && errno != EEXIST)
      rc = errno;
    *s = '/';
  }
  if (!rc && mkdir(p, 0777) != 0 && errno != EEXIST)
    rc = errno;
  if (!rc && (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)))
    rc = ENOTDIR;
  free(p);
  return rc;
}

static bool
S_alive(long pid)
{
  if (pid <= 0)
    return false;
  if (pid == (long)getpid())
    return true;
  if (kill((pid_t)pid, 0) != 0 && errno != EPERM)
    return false;
  /* A zombie is dead: a batch worker killed with its supervisor stays one
   * until something reaps it (in a container, maybe never). */
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return true;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0)
    return true;
  buf[n] = '\0';
  const char *paren = strrchr(buf, ')');
  return !(paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X'));
}

int
bs_remove_stale_temps(const char *dir,
                      bool (*wanted)(void *ctx, const char *final), void *ctx)
{
  DIR *d = opendir(dir);
  if (!d)
    return 0;
  int removed = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    char *final;
    long pid;
    if (!bs_temp_parse(e->d_name, &final, &pid))
      continue;
    if (wanted && !wanted(ctx, final)) {
      free(final);
      continue;
    }
    size_t n = strlen(dir) + strlen(e->d_name) + 2;
    char *path = bs_xmalloc(n);
    snprintf(path, n, "%s/%s", dir, e->d_name);
    /* a file: stale when nobody holds its lock (bs_atomic_open); else
     * (a folder of bs_temp_name) when its writer's PID is gone */
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    bool stale;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
      stale = flock(fd, LOCK_EX | LOCK_NB) == 0;
    else
      stale = !S_alive(pid);
    if (stale && unlink(path) == 0)
      removed++;
    if (fd >= 0)
      close(fd);
    free(path);
    free(final);
  }
  closedir(d);
  return removed;
}

int
bs_remove_tree(const char *path)
{
  struct stat st;
  if (lstat(path, &st) != 0)
    return errno == ENOENT ? 0 : errno;
  if (!S_ISDIR(st.st_mode))
    return unlink(path) == 0 ? 0 : errno;
  DIR *d = opendir(path);
  if (!d)
    return errno;
  int rc = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    size_t n = strlen(path) + strlen(e->d_name) + 2;
    char *sub = bs_xmalloc(n);
    snprintf(sub, n, "%s/%s", path, e->d_name);
    int r = bs_remove_tree(sub);
    if (r && !rc)
      rc = r;
    free(sub);
  }
  closedir(d);
  if (rmdir(path) != 0 && !rc)
    rc = errno;
  return rc;
}

/* ------------------------------------------------------------------ */
/* Inputs                                                               */

int
bs_input_open(const char *path, uint64_t max_bytes, struct stat *st)
{
  /* O_NONBLOCK: opening a FIFO with no writer, or some devices, would
   * otherwise block before fstat could tell what it is. */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  int e = 0;
  struct statfs fs;
  if (fstat(fd, st) != 0)
    e = errno;
  else if (!S_ISREG(st->st_mode))
    e = BS_E_SPECIAL;
  else if (fstatfs(fd, &fs) == 0 &&
           (fs.f_type == PROC_SUPER_MAGIC || fs.f_type == SYSFS_MAGIC ||
            fs.f_type == DEBUGFS_MAGIC || fs.f_type == SECURITYFS_MAGIC))
    e = BS_E_PSEUDO;
  else if (max_bytes && (uint64_t)st->st_size > max_bytes)
    e = EFBIG;
  else {
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0)
      e = errno;
  }
  if (e) {
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

unsigned char *
bs_input_read(int fd, const struct stat *st, size_t *len)
{
  /* Exactly st_size bytes, then one more read that must find the end:
   * a file that is not what fstat said is refused, not half-read. */
  size_t want = (size_t)st->st_size;
  unsigned char *buf = bs_xmalloc(want + 2);
  size_t n = 0;
  int e = 0;
  while (n < want + 1) {
    ssize_t r = read(fd, buf + n, want + 1 - n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      e = errno ? errno : EIO;
      break;
    }
    if (r == 0)
      break;
    n += (size_t)r;
  }
  if (!e && n != want)
    e = BS_E_CHANGED;
  if (e) {
    free(buf);
    errno = e;
    return NULL;
  }
  buf[n] = '\0';
  *len = n;
  return buf;
}

bool
bs_same_stat(const struct stat *a, const struct stat *b)
{
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

bool
bs_same_file(const char *a, const char *b)
{
  struct stat sa, sb;
  return stat(a, &sa) == 0 && stat(b, &sb) == 0 && bs_same_stat(&sa, &sb);
}

const char *
bs_output_input(const char *out, const char *const *inputs, size_t n)
{
  struct stat so, si;
  if (!out || strcmp(out, "-") == 0 || stat(out, &so) != 0)
    return NULL;
  for (size_t i = 0; i < n; i++)
    if (inputs[i] && (strcmp(inputs[i], out) == 0 ||
                      (stat(inputs[i], &si) == 0 && bs_same_stat(&so, &si))))
      return inputs[i];
  return NULL;
}
