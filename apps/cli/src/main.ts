process.stdout.write('imsplex\n');
