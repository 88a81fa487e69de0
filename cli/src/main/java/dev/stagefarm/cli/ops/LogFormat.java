package dev.stagefarm.cli.ops;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the server commands log to stderr: {@code text} ({@link LogConfigurator}'s pattern) or {@code json}, one
 * JSON object a line with the MDC's {@code buildId}, {@code stageId} and {@code attempt} where the
 * line is about a stage (docs/operations.md, "Logs").
 */
public enum LogFormat {
  TEXT,
  JSON;

  /** The appender of {@link LogConfigurator} (and logback-test.xml) the format applies to. */
  static final String APPENDER = "STDERR";

  /** @throws IllegalArgumentException for anything but text or json */
  public static LogFormat parse(String text) {
    return switch (text == null ? "text" : text.strip().toLowerCase(Locale.ROOT)) {
      case "", "text" -> TEXT;
      case "json" -> JSON;
      default -> throw new IllegalArgumentException("log format '" + text + "': use text or json");
    };
  }

  /**
   * Switches the stderr appender to this format, keeping the other one to switch back to. Does
   * nothing when logback is not the binding.
   */
  public void apply() {
    if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
      return;
    }
    if (!(context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender(APPENDER)
        instanceof OutputStreamAppender<ILoggingEvent> appender)) {
      return;
    }
    Encoder<ILoggingEvent> current = appender.getEncoder();
    if ((this == JSON) == (current instanceof JsonEncoder)) {
      return;
    }
    Encoder<ILoggingEvent> next;
    if (this == JSON) {
      JsonEncoder json = new JsonEncoder();
      json.setContext(context);
      // one line each: what a log collector needs, not logback's internals
      json.setWithSequenceNumber(false);
      json.setWithNanoseconds(false);
      json.setWithContext(false);
      json.setWithArguments(false);
      json.setWithMessage(false);
      json.setWithFormattedMessage(true);
      json.start();
      next = json;
      textEncoder = current;
    } else if (textEncoder != null) {
      next = textEncoder;
    } else {
      return;
    }
    appender.stop();
    appender.setEncoder(next);
    appender.start();
  }

  /** The pattern encoder of {@link LogConfigurator} while JSON is on. */
  private static Encoder<ILoggingEvent> textEncoder;
}
