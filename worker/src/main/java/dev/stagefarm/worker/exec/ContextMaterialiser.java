package dev.stagefarm.worker.exec;

import dev.stagefarm.oci.Digest;
import dev.stagefarm.program.ContextFile;
import dev.stagefarm.program.ContextSelection;
import dev.stagefarm.worker.UserError;
import dev.stagefarm.worker.store.ContentStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes the build-context entries one op selected into a private directory, fetching each file by
 * its digest: a worker holds only the context files its ops read. Entries come from the wire and
 * are hostile input: an absolute path, a {@code .} or {@code ..} component, a path through a
 * symlink or a file, or an entry given twice is refused, and nothing is ever written through a
 * symlink.
 */
final class ContextMaterialiser {
  /** Context downloads in flight per selection. */
  static final int FETCH_PARALLELISM = 16;

  private final ContentStore store;

  ContextMaterialiser(ContentStore store) {
    this.store = store;
  }

  /**
   * Writes {@code selection} at {@code match} (which must not exist): a file, a symlink, or a
   * directory holding the selection's other entries.
   *
   * @return {@code match}
   * @throws UserError for a hostile or inconsistent selection
   */
  Path materialise(ContextSelection selection, Path match) throws IOException, UserError {
    ContextFile root = rootOf(selection);
    Path fetched = match.resolveSibling(match.getFileName() + ".fetched");
    try {
      fetchContents(selection, Files.createDirectories(fetched));
      return materialise(selection, root, match, fetched);
    } finally {
      dev.stagefarm.worker.layers.Trees.deleteRecursively(fetched);
    }
  }

  /**
   * Downloads every distinct file content of the selection once, {@link #FETCH_PARALLELISM} at a
   * time, into {@code into/<hex>}: a context with many small or identical files (empty
   * {@code __init__.py}s) costs one request per content, not one per path, and not one after another.
   */
  private void fetchContents(ContextSelection selection, Path into) throws IOException, UserError {
    java.util.Set<Digest> digests = new java.util.LinkedHashSet<>();
    for (ContextFile entry : selection.entries()) {
      if (entry.type() == ContextFile.Type.FILE) {
        digests.add(digestOf(selection, entry));
      }
    }
    java.util.concurrent.Semaphore permits = new java.util.concurrent.Semaphore(FETCH_PARALLELISM);
    List<java.util.concurrent.Future<?>> downloads = new ArrayList<>();
    try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
      for (Digest digest : digests) {
        downloads.add(pool.submit(() -> {
          permits.acquire();
          try (InputStream in = store.openContext(digest)) {
            Files.copy(in, into.resolve(digest.hex()));
          } finally {
            permits.release();
          }
          return null;
        }));
      }
      for (var download : downloads) {
        download.get();
      }
    } catch (java.util.concurrent.ExecutionException e) {
      throw e.getCause() instanceof IOException io ? io
          : new IOException("fetching a context file failed: " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while fetching context files");
    }
  }

  private Path materialise(ContextSelection selection, ContextFile root, Path match, Path fetched)
      throws IOException, UserError {
    List<ContextFile> dirs = new ArrayList<>();
    write(root, match, selection, fetched);
    if (root.isDirectory()) {
      dirs.add(root);
    }
    for (ContextFile entry : selection.entries()) {
      if (entry.path().isEmpty()) {
        continue;
      }
      if (!root.isDirectory()) {
        throw hostile(selection, entry, "the match is not a directory");
      }
      Path target = match;
      String[] components = components(selection, entry);
      for (int i = 0; i < components.length - 1; i++) {
        target = target.resolve(components[i]);
        if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
          Files.createDirectory(target); // a parent the entries did not list: 0755, root's
        } else if (!isRealDirectory(target)) {
          throw hostile(selection, entry, "a parent is a symlink or a file");
        }
      }
      target = target.resolve(components[components.length - 1]);
      if (entry.isDirectory() && isRealDirectory(target)) {
        dirs.add(entry); // made above as a parent of an earlier entry
        continue;
      }
      write(entry, target, selection, fetched);
      if (entry.isDirectory()) {
        dirs.add(entry);
      }
    }
    for (ContextFile dir : dirs.reversed()) { // children first: a dir's mtime is set after its contents
      Path target = dir.path().isEmpty() ? match : match.resolve(dir.path());
      FileAttrs.setMode(target, dir.mode() == 0 ? 0755 : dir.mode());
      Files.setLastModifiedTime(target, FileTime.fromMillis(dir.mtimeMs()));
    }
    return match;
  }

  private static void write(ContextFile entry, Path target, ContextSelection selection, Path fetched)
      throws IOException, UserError {
    try {
      switch (entry.type()) {
        case DIRECTORY -> Files.createDirectory(target);
        case SYMLINK -> Files.createSymbolicLink(target, Path.of(entry.linkTarget()));
        case FILE -> {
          Digest digest = digestOf(selection, entry);
          // CREATE_NEW + NOFOLLOW_LINKS: never opens an existing file or follows a symlink planted by an earlier entry
          try (InputStream in = Files.newInputStream(fetched.resolve(digest.hex()));
              OutputStream out = Files.newOutputStream(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                  LinkOption.NOFOLLOW_LINKS)) {
            in.transferTo(out);
          }
          FileAttrs.setMode(target, entry.mode());
          Files.setLastModifiedTime(target, FileTime.fromMillis(entry.mtimeMs()));
        }
      }
    } catch (FileAlreadyExistsException e) {
      throw hostile(selection, entry, "it is given twice");
    }
  }

  private static ContextFile rootOf(ContextSelection selection) throws UserError {
    try {
      return selection.root();
    } catch (IllegalStateException e) {
      throw new UserError("context selection '" + selection.path() + "' has no entry for the match itself");
    }
  }

  private static Digest digestOf(ContextSelection selection, ContextFile entry) throws UserError {
    try {
      return Digest.parse(entry.digest());
    } catch (IllegalArgumentException e) {
      throw hostile(selection, entry, "its digest is malformed");
    }
  }

  private static String[] components(ContextSelection selection, ContextFile entry) throws UserError {
    String path = entry.path();
    if (path.startsWith("/") || path.endsWith("/") || path.contains("\0")) {
      throw hostile(selection, entry, "not a clean relative path");
    }
    String[] parts = path.split("/");
    for (String part : parts) {
      if (part.isEmpty() || part.equals(".") || part.equals("..")) {
        throw hostile(selection, entry, "not a clean relative path");
      }
    }
    return parts;
  }

  private static boolean isRealDirectory(Path p) {
    return Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS);
  }

  private static UserError hostile(ContextSelection selection, ContextFile entry, String why) {
    return new UserError("refusing context entry '" + entry.path() + "' of '" + selection.path() + "': " + why);
  }
}
