package dev.stagefarm.config;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code STAGEFARM_*} environment variables that are not configuration keys: the launcher's, the CLI
 * client's, the test and deploy scripts'. A role's loader ignores these; any other {@code STAGEFARM_}
 * variable that is no role's key is an error (a misspelt key must not go unnoticed). Add a variable
 * here when code or a script reads one.
 */
public final class OtherVariables {
  private OtherVariables() {}

  /** Variable → what reads it. */
  public static final Map<String, String> ALL = table();

  private static Map<String, String> table() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("STAGEFARM_HOME", "the CLI: the embedded farm's data (`stagefarm build`, `up`)");
    m.put("STAGEFARM_LOG_LEVEL", "the CLI: level of stagefarm's own loggers");
    m.put("STAGEFARM_DEBUG", "the `stagefarm` launcher: stack traces of internal errors");
    m.put("STAGEFARM_JAVA_OPTS", "the `stagefarm` launcher and images: extra JVM options");
    m.put("STAGEFARM_JAVA_MAJOR", "scripts/env.sh: the JDK's major version");
    m.put("STAGEFARM_TLS_CA", "`stagefarm build`: the CA of the coordinator's certificate");
    m.put("STAGEFARM_TOKEN", "`stagefarm build`: the bearer token");
    m.put("STAGEFARM_TOKEN_FILE", "`stagefarm build`: the file of the bearer token");
    m.put("STAGEFARM_CONFORMANCE_DIR", "scripts/test: the BuildKit conformance corpus");
    m.put("STAGEFARM_RUNTIME_PACKAGES", "scripts/env.sh: packages the tests need");
    m.put("STAGEFARM_TEST_PACKAGES", "scripts/env.sh: packages the tests need");
    m.put("STAGEFARM_TAG", "deploy/compose: the images' tag");
    m.put("STAGEFARM_IMAGE_TAG", "deploy/images/build.sh: the images' tag");
    m.put("STAGEFARM_CACHE", "deploy/images/build.sh: its cache directory");
    m.put("STAGEFARM_KEYS", "deploy/compose: the directory of the farm's role keys");
    m.put("STAGEFARM_COORDINATOR_PORT", "deploy/compose: the coordinator's port on the host");
    m.put("STAGEFARM_REGISTRY_PORT", "deploy/compose: the registry's port on the host");
    m.put("STAGEFARM_WORKER_TMPFS", "deploy/compose: the size of a worker's work dir");
    return m;
  }
}
