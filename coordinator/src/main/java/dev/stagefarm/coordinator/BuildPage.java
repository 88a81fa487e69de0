package dev.stagefarm.coordinator;

import dev.stagefarm.proto.v1.BuildStatus;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;

/**
 * One page of builds, oldest first, and the token of the next page (empty on the last). A token
 * names the last build of its page (created time and id), so paging stays correct while builds
 * come and go between calls.
 */
public record BuildPage(List<BuildStatus> builds, String nextPageToken) {
  /** Page size when the client asks for none. */
  public static final int DEFAULT_SIZE = 100;
  /** The largest page served; larger requests get this many. */
  public static final int MAX_SIZE = 1000;

  static final Comparator<BuildStatus> ORDER =
      Comparator.comparingLong(BuildStatus::getCreatedMs).thenComparing(BuildStatus::getBuildId);

  /** A page token that is not one this coordinator gave out. */
  public static final class InvalidPageToken extends IllegalArgumentException {
    InvalidPageToken(String token) {
      super("page_token \"" + token + "\" is not a token from a previous ListBuilds response");
    }
  }

  /** @param sorted every build in {@link #ORDER} */
  static BuildPage of(List<BuildStatus> sorted, int pageSize, String pageToken) {
    int size = pageSize <= 0 ? DEFAULT_SIZE : Math.min(pageSize, MAX_SIZE);
    int from = 0;
    if (!pageToken.isEmpty()) {
      BuildStatus last = decode(pageToken);
      while (from < sorted.size() && ORDER.compare(sorted.get(from), last) <= 0) {
        from++;
      }
    }
    int to = Math.min(sorted.size(), from + size);
    List<BuildStatus> page = List.copyOf(sorted.subList(from, to));
    String next = to < sorted.size() ? encode(page.getLast()) : "";
    return new BuildPage(page, next);
  }

  private static String encode(BuildStatus last) {
    String plain = last.getCreatedMs() + "/" + last.getBuildId();
    return Base64.getUrlEncoder().withoutPadding().encodeToString(plain.getBytes(StandardCharsets.UTF_8));
  }

  private static BuildStatus decode(String token) {
    try {
      String plain = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
      int slash = plain.indexOf('/');
      return BuildStatus.newBuilder()
          .setCreatedMs(Long.parseLong(plain.substring(0, slash)))
          .setBuildId(plain.substring(slash + 1))
          .build();
    } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
      throw new InvalidPageToken(token.length() > 64 ? token.substring(0, 64) + "…" : token);
    }
  }
}
