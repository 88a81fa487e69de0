import java.io.IOException;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassFileVersion;
import java.lang.classfile.ClassHierarchyResolver;
import java.lang.classfile.ClassModel;
import java.lang.classfile.ClassTransform;
import java.lang.classfile.CodeTransform;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * java scripts/ClassFileUpgrade.java IN.jar OUT.jar (JDK 24+, run by ./stagefarm): copies IN to OUT with every class
 * file older than Java 6 (version < 50) rewritten as a Java 8 class file (version 52) with stack maps, its code
 * otherwise the same. Why: the JVM's AOT cache (JDK 25) leaves out such "old" classes once they have been linked,
 * and picocli's jar is made of them (Java 5 class files): the one-shot JVM read, verified (with the old verifier) and
 * linked its ~180 classes from the jar at every start, ~0.1-0.2 s of the one-shot's start before the farm
 * (bench/README.md, "Session 12 (issue 12): the one-shot JVM's start"). Every rewritten class is checked with the
 * class-file API's verifier; on any error nothing is written and the exit code is 1 (the launcher then runs the jar
 * as it is).
 */
public class ClassFileUpgrade {
  public static void main(String[] args) throws IOException {
    if (args.length != 2) {
      System.err.println("usage: java ClassFileUpgrade.java IN.jar OUT.jar");
      System.exit(2);
    }
    Path in = Path.of(args[0]);
    Path out = Path.of(args[1]);
    try (URLClassLoader classes = new URLClassLoader(new URL[] {in.toUri().toURL()}, null)) {
      // stack maps need the common supertypes of the jar's classes: the JDK's, then the jar's own
      ClassFile classFile = ClassFile.of(ClassFile.StackMapsOption.GENERATE_STACK_MAPS,
          ClassFile.ClassHierarchyResolverOption.of(ClassHierarchyResolver.defaultResolver()
              .orElse(ClassHierarchyResolver.ofResourceParsing(classes))));
      ClassTransform toJava8 = (builder, element) -> {
        if (element instanceof ClassFileVersion) {
          builder.withVersion(ClassFile.JAVA_8_VERSION, 0);
        } else {
          builder.with(element);
        }
      };
      // the code re-emitted, so that its stack maps are generated
      ClassTransform upgrade = toJava8.andThen(ClassTransform.transformingMethodBodies(CodeTransform.ACCEPT_ALL));
      int upgraded = 0;
      try (ZipInputStream jar = new ZipInputStream(Files.newInputStream(in));
          ZipOutputStream copy = new ZipOutputStream(Files.newOutputStream(out))) {
        for (ZipEntry entry; (entry = jar.getNextEntry()) != null; ) {
          byte[] bytes = jar.readAllBytes();
          if (entry.getName().endsWith(".class") && !entry.getName().startsWith("META-INF/")) {
            ClassModel model = classFile.parse(bytes);
            if (model.majorVersion() < ClassFile.JAVA_6_VERSION) {
              bytes = classFile.transformClass(model, upgrade);
              List<VerifyError> errors = classFile.verify(bytes);
              if (!errors.isEmpty()) {
                throw new IOException(entry.getName() + " does not verify once upgraded: " + errors.getFirst());
              }
              upgraded++;
            }
          }
          ZipEntry copied = new ZipEntry(entry.getName());
          copied.setTime(entry.getTime()); // the same bytes for the same jar, whoever made it
          copy.putNextEntry(copied);
          copy.write(bytes);
          copy.closeEntry();
        }
      }
      System.err.println(upgraded + " class files of " + in.getFileName() + " upgraded");
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(out);
      System.err.println("ClassFileUpgrade: " + in + ": " + e.getMessage());
      System.exit(1);
    }
  }
}
