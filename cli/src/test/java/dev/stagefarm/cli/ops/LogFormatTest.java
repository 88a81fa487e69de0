package dev.stagefarm.cli.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

class LogFormatTest {
  final LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();

  @AfterEach
  void backToText() {
    LogFormat.TEXT.apply();
    MDC.clear();
  }

  @Test
  void parsesTextAndJsonAndNamesAnythingElse() {
    assertThat(LogFormat.parse("JSON")).isEqualTo(LogFormat.JSON);
    assertThat(LogFormat.parse(null)).isEqualTo(LogFormat.TEXT);
    assertThat(LogFormat.parse("")).isEqualTo(LogFormat.TEXT);
    assertThatThrownBy(() -> LogFormat.parse("logfmt")).hasMessage("log format 'logfmt': use text or json");
  }

  @Test
  void jsonLinesCarryTheBuildAndStageIdsOfTheMdc() {
    var stderr = context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender(LogFormat.APPENDER);
    assertThat(stderr).as("logback-test.xml names the appender as LogConfigurator does").isNotNull();

    LogFormat.JSON.apply();
    var encoder = ((OutputStreamAppender<ILoggingEvent>) stderr).getEncoder();
    assertThat(encoder).isInstanceOf(JsonEncoder.class);
    MDC.put("buildId", "b-123");
    MDC.put("stageId", "1-build");
    LoggingEvent event = new LoggingEvent(LogFormatTest.class.getName(),
        context.getLogger("dev.stagefarm.worker.kafka.TaskSlot"), Level.WARN, "slot {} took it", null,
        new Object[] {"slot0"});
    String line = new String(encoder.encode(event), StandardCharsets.UTF_8);

    assertThat(line).endsWith("\n").doesNotContain("\n\n");
    assertThat(line.strip()).startsWith("{").endsWith("}").doesNotContain("\n");
    assertThat(line).contains("\"level\":\"WARN\"").contains("\"buildId\":\"b-123\"").contains("\"stageId\":\"1-build\"")
        .contains("\"formattedMessage\":\"slot slot0 took it\"");

    LogFormat.TEXT.apply();
    assertThat(((OutputStreamAppender<ILoggingEvent>) stderr).getEncoder()).isNotInstanceOf(JsonEncoder.class);
  }
}
