package dev.stagefarm.cli;

import picocli.CommandLine;

final class VersionProvider implements CommandLine.IVersionProvider {
  @Override
  public String[] getVersion() {
    String version = Main.class.getPackage().getImplementationVersion();
    return new String[] {"stagefarm " + (version == null ? "dev" : version)};
  }
}
