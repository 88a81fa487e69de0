package dev.stagefarm.cli.ops;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;
import java.util.function.UnaryOperator;

/**
 * The CLI's logging, configured in code (a logback {@link Configurator} service) instead of a {@code logback.xml}:
 * logback's XML configuration (SAX parsing, its model) cost every CLI JVM ~0.1 s of CPU on its first logger, on the
 * path of a one-shot build's farm start (bench/README.md, "Session 11"). The same configuration as before: stderr,
 * {@link #PATTERN}; stagefarm's loggers at {@code STAGEFARM_LOG_LEVEL} (a system property or the environment;
 * default WARN), Kafka's at ERROR, everything else at WARN: the CLI talks to users through its own output, and
 * S3Proxy and Kafka are several times slower when they log at DEBUG. A {@code logback-test.xml} on the class path
 * or {@code -Dlogback.configurationFile} still wins: then this configurator steps aside.
 */
public final class LogConfigurator extends ContextAwareBase implements Configurator {
  static final String PATTERN = "%d{HH:mm:ss.SSS} %-5level %logger{20} - %msg%n";
  static final String LEVEL_VARIABLE = "STAGEFARM_LOG_LEVEL";

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    if (System.getProperty("logback.configurationFile") != null
        || LogConfigurator.class.getClassLoader().getResource("logback-test.xml") != null) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY;
    }
    configure(context, name -> {
      String value = System.getProperty(name);
      return value != null ? value : System.getenv(name);
    });
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }

  /** Configures {@code context}, reading {@value #LEVEL_VARIABLE} through {@code variables}. */
  static void configure(LoggerContext context, UnaryOperator<String> variables) {
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern(PATTERN);
    encoder.start();
    ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
    stderr.setContext(context);
    stderr.setName(LogFormat.APPENDER);
    stderr.setTarget("System.err");
    stderr.setEncoder(encoder);
    stderr.start();
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.WARN);
    root.addAppender(stderr);
    context.getLogger("dev.stagefarm").setLevel(level(variables.apply(LEVEL_VARIABLE)));
    context.getLogger("org.apache.kafka").setLevel(Level.ERROR);
    context.getLogger("kafka").setLevel(Level.ERROR);
  }

  /** As logback's XML read {@code level="${STAGEFARM_LOG_LEVEL:-WARN}"}: unset or empty WARN, a name its level. */
  static Level level(String value) {
    if (value == null || value.isBlank()) {
      return Level.WARN;
    }
    return Level.toLevel(value.strip(), Level.DEBUG); // logback's own default for a name it does not know
  }
}
