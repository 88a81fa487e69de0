package dev.stagefarm.cli.farm;

import io.grpc.Channel;

/** A farm the client talks to: the embedded one in this process, or a remote coordinator. */
public interface Farm extends AutoCloseable {
  Channel channel();

  /** For messages: where the coordinator is. */
  String endpoint();

  @Override
  void close();
}
