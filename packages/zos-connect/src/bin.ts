process.stderr.write('imsplex-zos-connect: not built yet\n');
process.exit(1);
