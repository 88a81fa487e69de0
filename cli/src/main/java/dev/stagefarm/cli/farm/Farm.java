package dev.stagefarm.cli.farm;

import dev.stagefarm.cli.build.CoordinatorRoute;
import io.grpc.Channel;

/** A farm the client talks to: the embedded one in this process, or remote coordinators. */
public interface Farm extends AutoCloseable, CoordinatorRoute {
  @Override
  Channel channel();

  /** For messages: where the coordinator is. */
  @Override
  String endpoint();

  @Override
  void close();
}
