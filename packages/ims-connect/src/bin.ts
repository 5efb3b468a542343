process.stderr.write('imsplex-ims-connect: not built yet\n');
process.exit(1);
