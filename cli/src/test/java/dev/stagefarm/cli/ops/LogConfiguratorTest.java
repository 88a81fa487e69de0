package dev.stagefarm.cli.ops;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.core.ConsoleAppender;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The CLI's logging configured in code: what logback.xml configured, and a logback-test.xml still wins. */
class LogConfiguratorTest {

  @Test
  void stderrWithThePatternStagefarmAtTheVariablesLevelKafkaAtErrorTheRestAtWarn() {
    LoggerContext context = new LoggerContext();
    LogConfigurator.configure(context, Map.of(LogConfigurator.LEVEL_VARIABLE, "INFO")::get);

    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    assertThat(root.getLevel()).isEqualTo(Level.WARN);
    ConsoleAppender<?> stderr = (ConsoleAppender<?>) root.getAppender(LogFormat.APPENDER);
    assertThat(stderr.getTarget()).isEqualTo("System.err");
    assertThat(stderr.isStarted()).isTrue();
    assertThat(((PatternLayoutEncoder) stderr.getEncoder()).getPattern()).isEqualTo(LogConfigurator.PATTERN);
    assertThat(context.getLogger("dev.stagefarm.cli.farm.EmbeddedFarm").getEffectiveLevel()).isEqualTo(Level.INFO);
    assertThat(context.getLogger("org.apache.kafka.clients.Metadata").getEffectiveLevel()).isEqualTo(Level.ERROR);
    assertThat(context.getLogger("kafka.server.KafkaServer").getEffectiveLevel()).isEqualTo(Level.ERROR);
    assertThat(context.getLogger("org.gaul.s3proxy.S3Proxy").getEffectiveLevel()).isEqualTo(Level.WARN);
  }

  @Test
  void theLevelVariableAsLogbacksXmlReadIt() {
    assertThat(LogConfigurator.level(null)).isEqualTo(Level.WARN);
    assertThat(LogConfigurator.level(" ")).isEqualTo(Level.WARN);
    assertThat(LogConfigurator.level("debug")).isEqualTo(Level.DEBUG);
    assertThat(LogConfigurator.level(" ERROR ")).isEqualTo(Level.ERROR);
    assertThat(LogConfigurator.level("chatty")).isEqualTo(Level.DEBUG);
  }

  @Test
  void aLogbackTestXmlOnTheClassPathWinsAndThisConfiguresNothing() {
    LoggerContext context = new LoggerContext();
    LogConfigurator configurator = new LogConfigurator();
    configurator.setContext(context);

    // the tests' class path has cli's logback-test.xml
    assertThat(configurator.configure(context)).isEqualTo(Configurator.ExecutionStatus.INVOKE_NEXT_IF_ANY);
    assertThat(context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender(LogFormat.APPENDER)).isNull();
  }
}
