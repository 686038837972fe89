// A program that needs input files (issue 17): reads what its spawner put in the scratch
// dir before it started, lists a seeded directory, and writes a result next to them.
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(void) {
  FILE *f = fopen("/scratch/data/in.txt", "r");
  if (!f) { printf("open in.txt: errno=%d\n", errno); return 1; }
  char line[128];
  long words = 0;
  while (fgets(line, sizeof line, f)) {
    printf("in: %s", line);
    for (char *p = strtok(line, " \n"); p; p = strtok(NULL, " \n")) words++;
  }
  fclose(f);
  DIR *d = opendir("/scratch/data");
  if (!d) { printf("opendir: errno=%d\n", errno); return 1; }
  char *names[32];
  int n = 0;
  for (struct dirent *e; (e = readdir(d)) && n < 32;) if (e->d_name[0] != '.') names[n++] = strdup(e->d_name);
  closedir(d);
  qsort(names, n, sizeof names[0], cmp);
  printf("ls data:");
  for (int i = 0; i < n; i++) printf(" %s", names[i]);
  printf("\n");
  struct stat st;
  printf("nested: %s\n", stat("/scratch/data/sub/deep.bin", &st) == 0 ? "yes" : "no");
  printf("deep.bin size=%lld\n", (long long)st.st_size);
  f = fopen("/scratch/out.txt", "w");
  fprintf(f, "words=%ld\n", words);
  fclose(f);
  printf("words=%ld\n", words);
  return 0;
}
